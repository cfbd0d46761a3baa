// A real OpenID Provider on loopback: panva's oidc-provider, in-process, with one confidential
// client and two users in different groups. Its stock development login screen takes the user
// name (alice or bob) and any password, then asks for consent ("Continue").
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Account } from 'oidc-provider';

export const OIDC_USERS: Readonly<Record<string, { email: string; groups: string[] }>> = {
  alice: { email: 'alice@example.com', groups: ['admins', 'staff'] },
  bob: { email: 'bob@example.com', groups: ['users'] },
};

export interface OidcProviderHandle {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Token endpoint requests seen (to tell a replay that reached the provider from one refused before). */
  tokenRequests: number;
  close(): Promise<void>;
}

export async function startOidcProvider(redirectUris: string[]): Promise<OidcProviderHandle> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'netbird-proxy';
  const clientSecret = 'a-client-secret-for-the-test-provider';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    findAccount(_ctx, id): Account | undefined {
      const user = OIDC_USERS[id];
      if (user === undefined) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, preferred_username: id, email: user.email, email_verified: true, groups: user.groups }),
      };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    pkce: { required: () => true },
    cookies: { keys: ['test-cookie-key-1'] },
    ttl: { AccessToken: 600, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
  });
  const handle: OidcProviderHandle = {
    issuer,
    clientId,
    clientSecret,
    tokenRequests: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const callback = provider.callback();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method === 'POST' && req.url?.startsWith('/token') === true) handle.tokenRequests++;
    callback(req, res);
  });
  return handle;
}
