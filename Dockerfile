# Builds a static herald binary into a small image that runs as a non-root
# user. Data (the SQLite file and the file outbox, when used) lives in /data.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/herald ./cmd/herald \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /usr/local/bin/herald
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
ENV HERALD_ADDR=:8080 \
    HERALD_DATABASE_URL=sqlite:/data/herald.db \
    HERALD_OUTBOX_DIR=/data/outbox
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/herald"]
CMD ["serve"]
