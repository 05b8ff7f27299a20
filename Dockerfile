# itcloud on Debian 12: builds the core and the web app and runs `itcloud serve`.
FROM node:20-bookworm-slim AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./
RUN npx vite build

FROM debian:12-slim AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --core
COPY . .
RUN make bin/itcloud

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      liblua5.4-0 lua-cjson libmicrohttpd12 libjwt0 libargon2-1 libsqlite3-0 libssl3 libcurl4 \
      libturbojpeg0 libspng0 libexif12 libwebp7 libheif1 libhiredis0.14 ffmpeg curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/bin/itcloud /app/bin/itcloud
COPY lua /app/lua
COPY config /app/config
COPY migrations /app/migrations
COPY --from=web /src/static /app/static
ENV APP_ENV=prod HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
VOLUME /data
EXPOSE 8080
HEALTHCHECK CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
CMD ["/app/bin/itcloud", "serve"]
