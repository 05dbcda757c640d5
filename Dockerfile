# Production image: a static paylink binary on a distroless base, run as a
# non-root user. Build: docker build -t paylink .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/paylink ./cmd/paylink

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/paylink /usr/local/bin/paylink
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/paylink"]
CMD ["api"]
