// Where the forwarder sends a request: the service's target, or one target of a routed service's pool.
import type http from 'node:http';

export interface UpstreamTarget {
  service: string;
  url: URL;
  /** The service's own agent (upstream_tls), else the shared one for the URL's protocol. */
  agent?: http.Agent;
}
