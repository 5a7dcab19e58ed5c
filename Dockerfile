# Switchyard: one static binary on a minimal base image.
#   docker build -t switchyard .
#   docker run -p 3000:3000 -v switchyard-data:/data -e SWITCHYARD_ROOT_PASSWORD=… switchyard
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/switchyard ./cmd/switchyard \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/switchyard /usr/local/bin/switchyard
# The data directory belongs to the image's non-root user (a new named
# volume takes this ownership).
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME /data
EXPOSE 3000 6222 7000
ENTRYPOINT ["/usr/local/bin/switchyard", "serve", "--data", "/data"]
