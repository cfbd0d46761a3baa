// Entry point: picks the view from the path, wires the navigation and the theme switch.
import { getSession } from './api.js';
import { byId } from './dom.js';
import { eventsView } from './events-view.js';
import { servicesView } from './services-view.js';

type Theme = 'auto' | 'light' | 'dark';
const THEME_KEY = 'nbp-theme';

function applyTheme(theme: Theme): void {
  if (theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const button = byId<HTMLButtonElement>('theme');
  button.textContent = theme === 'auto' ? 'Theme: auto' : theme === 'dark' ? 'Theme: dark' : 'Theme: light';
}

function storedTheme(): Theme {
  const v = localStorage.getItem(THEME_KEY);
  return v === 'light' || v === 'dark' ? v : 'auto';
}

async function main(): Promise<void> {
  let theme = storedTheme();
  applyTheme(theme);
  byId('theme').addEventListener('click', () => {
    theme = theme === 'auto' ? 'dark' : theme === 'dark' ? 'light' : 'auto';
    localStorage.setItem(THEME_KEY, theme);
    applyTheme(theme);
  });
  const view = location.pathname === '/services' ? 'services' : 'events';
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
  }
  const main = byId('main');
  try {
    const session = await getSession();
    byId('logout').hidden = !session.auth_required;
    await (view === 'services' ? servicesView(main) : eventsView(main));
    document.body.dataset.ready = 'true';
  } catch (err) {
    main.textContent = `The admin API did not answer: ${err instanceof Error ? err.message : String(err)}`;
    main.classList.add('error');
  }
}

void main();
