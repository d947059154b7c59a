# capacities-mcp, multi-user (remote) mode: one replica per container.
#   docker build -t capacities-mcp .
#   docker run -p 8000:8000 -e CAPACITIES_MCP_PUBLIC_URL=https://mcp.example.org capacities-mcp
# See docs/remote.md (TLS, the Capacities OAuth client, secrets, scaling) and compose.yaml.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY capacities_mcp ./capacities_mcp
COPY prompts ./prompts
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
COPY --from=build /install /usr/local
# No root at run time: the server needs no file it could write to anyway.
RUN useradd --system --uid 10001 --no-create-home capacities
USER capacities
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
EXPOSE 8000
# /health answers without a token and without calling Capacities: liveness only.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]
# The public URL, Redis URL and encryption key come from the environment (CAPACITIES_MCP_*).
ENTRYPOINT ["capacities-mcp", "serve", "--transport", "http", "--multi-user", "--host", "0.0.0.0", "--port", "8000"]
