# Both binaries, built once; the runtime image is Debian slim with a non-root user.
# docker build -t event-driven-bayes .   (docker-compose.yml does this for you)

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bins \
 && cp target/release/api target/release/bayes /usr/local/bin/

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /app --create-home app \
 && apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/api /usr/local/bin/bayes /usr/local/bin/
WORKDIR /app
RUN mkdir -p /app/graphs && chown app:app /app/graphs
USER app
ENV GRAPHS_DIR=/app/graphs
CMD ["api"]
