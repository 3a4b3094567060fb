# The IOC platform image for docker-compose.yml. Built from this repository only: at run time it
# loads nothing from the internet (the status page, /docs and the VN unit data ship in the package).
FROM python:3.11-slim-bookworm

# fping/iputils for ICMP checks, snmp tools for engineers inside the container.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fping iputils-ping snmp \
    && rm -rf /var/lib/apt/lists/*

# uid 1000 owns IOC_HOME; the Mosquitto container runs as the same uid so that `ioc` can SIGHUP it
# (shared PID namespace) after regenerating the password and ACL files in the shared volume.
RUN useradd --uid 1000 --create-home ioc \
    && mkdir -p /var/lib/ioc && chown ioc:ioc /var/lib/ioc && chmod 0700 /var/lib/ioc

WORKDIR /opt/ioc
COPY pyproject.toml README.md ./
COPY device_registry ./device_registry
COPY provisioning ./provisioning
COPY telemetry ./telemetry
COPY monitors ./monitors
COPY grafana ./grafana
COPY ioc ./ioc
COPY simulators ./simulators
RUN pip install --no-cache-dir .

USER ioc
ENV IOC_HOME=/var/lib/ioc IOC_API__HOST=0.0.0.0 IOC_API__PORT=8080
VOLUME ["/var/lib/ioc"]
EXPOSE 8080
CMD ["ioc", "serve"]
