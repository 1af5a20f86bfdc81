# syntax=docker/dockerfile:1
# Build: docker build -t upgradebot .
# Run:   docker run --stop-timeout 30 -p 8080:8080 -v $PWD/config.toml:/etc/upgradebot/config.toml:ro \
#          -e UPGRADEBOT_REDIS_URL=redis://redis:6379/0 \
#          -e UPGRADEBOT_SLACK_ENABLED=true \
#          -e UPGRADEBOT_SLACK_BOT_TOKEN -e UPGRADEBOT_SLACK_APP_TOKEN upgradebot
#        (-e NAME passes the secret from your shell; --stop-timeout: serve drains for up to 25 s
#        after SIGTERM, Docker's default is 10 s. docs/deploy.md: Redis with AOF, several
#        replicas, Discord and GitHub)
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/upgradebot . \
 && mkdir -p /out/etc/upgradebot

# distroless/static: no shell, no package manager, CA certificates and tzdata included.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/upgradebot /usr/local/bin/upgradebot
COPY --from=build --chown=65532:65532 /out/etc/upgradebot /etc/upgradebot
WORKDIR /etc/upgradebot
# Inside a container the bot must listen beyond loopback. Environment values win over the file, so
# this also wins over server.listen in a mounted config: set UPGRADEBOT_SERVER_LISTEN to change it.
ENV UPGRADEBOT_SERVER_LISTEN=0.0.0.0:8080
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["upgradebot"]
CMD ["serve"]
