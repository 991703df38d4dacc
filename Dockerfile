# Two stages: build a virtualenv with the service installed, then copy only that into a
# slim runtime image that runs as an unprivileged user.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, from the pinned list in pyproject.toml alone, so this layer is
# cached until the dependencies change (not when the README or the code does).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['project']['dependencies']))" > requirements.txt \
    && pip install --no-cache-dir -r requirements.txt

# Then the service itself (the wheel carries the Alembic migrations; hatch reads the
# README as the package's long description).
COPY README.md ./
COPY src ./src
COPY migrations ./migrations
RUN pip install --no-cache-dir --no-deps .

FROM python:3.11-slim AS runtime
# A numeric user and group: Kubernetes' runAsNonRoot can check a number, not a name.
RUN groupadd --system --gid 10001 nps \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/nps nps \
    && mkdir /data && chown 10001:10001 /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NPS_DATABASE_URL=sqlite:////data/nps.db
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# Settings come from NPS_* environment variables (see README), e.g.
#   docker run -e NPS_DATABASE_URL=postgresql://nps:secret@db:5432/nps -p 8000:8000 nps-service
CMD ["nps-service", "serve", "--host", "0.0.0.0", "--port", "8000"]
