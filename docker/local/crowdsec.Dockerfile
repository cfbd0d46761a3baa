# Local stand-in for crowdsecurity/crowdsec, built by scripts/local-images.sh where Docker Hub
# is not reachable: Debian's crowdsec 1.4.6 binaries (the same the tests' LAPI uses) with an
# entrypoint (crowdsec-start.sh, installed as /docker_start.sh like the official image's) that
# honours the variables docker-compose.yml relies on. The hub is Debian's offline copy.
ARG BASE_IMAGE=netbird-proxy-local/bookworm-minbase:latest
FROM ${BASE_IMAGE}
# `apt-get install crowdsec` fails in its postinst inside a container, so the .deb is unpacked.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libsqlite3-0 >/dev/null \
 && cd /tmp && apt-get download -q crowdsec 2>/dev/null \
 && dpkg-deb -x crowdsec_*.deb /tmp/cs \
 && install -m 0755 /tmp/cs/usr/bin/crowdsec /tmp/cs/usr/bin/cscli /usr/local/bin/ \
 && mkdir -p /usr/share/crowdsec /staging/etc/crowdsec/acquis.d /var/lib/crowdsec/hub /var/lib/crowdsec/data \
 && cp -a /tmp/cs/usr/share/crowdsec/hub /tmp/cs/usr/share/crowdsec/data /usr/share/crowdsec/ \
 && cp -a /tmp/cs/etc/crowdsec/patterns /tmp/cs/etc/crowdsec/profiles.yaml /tmp/cs/etc/crowdsec/simulation.yaml /staging/etc/crowdsec/ \
 && for item in blockers collections parsers postoverflows scenarios .index.json; do \
      ln -s "/usr/share/crowdsec/hub/$item" "/var/lib/crowdsec/hub/$item"; \
    done \
 && rm -rf /tmp/cs /tmp/crowdsec_*.deb /var/lib/apt/lists/* \
 && crowdsec -version 2>&1 | head -n 1
COPY crowdsec-config.yaml /staging/etc/crowdsec/config.yaml
COPY crowdsec-start.sh /docker_start.sh
EXPOSE 8080
ENTRYPOINT ["/bin/bash", "/docker_start.sh"]
