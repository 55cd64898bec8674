# Winnow container image: the `winnow` binary on a slim Debian with only its runtime libraries.
#
#   docker build -t registry.example/winnow:latest .
#   docker push registry.example/winnow:latest
#   docker run --rm -v "$PWD:/data" -w /data registry.example/winnow:latest screen --model m.winnow --library lib.smi -o hits.csv
#
# Stage 1 builds with the official Swift image's toolchain (Debian bookworm, like the runtime stage,
# so the Open Babel / OpenBLAS versions the binary is linked against are the ones it runs with).
# The Swift runtime and Foundation are linked statically (--static-swift-stdlib), so the runtime
# stage needs no Swift toolchain: only Open Babel, OpenBLAS, zlib, SQLite and mimalloc.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# Debian stable's package versions are fixed within the release (bookworm: Open Babel 3.1.1, OpenBLAS
# 0.3.21) and only receive security fixes; pinning exact versions would break the build at the next
# security update, so the apt installs are not pinned (hadolint DL3008).
FROM ${SWIFT_IMAGE} AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libopenbabel-dev libopenblas-dev zlib1g-dev libsqlite3-dev libmimalloc-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The package manifest first: dependency resolution is cached until Package.swift changes.
COPY Package.swift ./
RUN swift package resolve
# Tests/ is needed too: SwiftPM checks that every declared target's folder exists.
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product winnow --static-swift-stdlib \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/winnow" /out/winnow

FROM ${RUNTIME_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libopenbabel7 libopenblas0 zlib1g libsqlite3-0 libmimalloc2.0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 --user-group winnow
COPY --from=build /out/winnow /usr/local/bin/winnow
COPY LICENSE /usr/share/doc/winnow/LICENSE
# Fail the build, not the first screen, if a runtime library is missing.
RUN winnow --version
USER 1000:1000
WORKDIR /data
ENTRYPOINT ["winnow"]
CMD ["--help"]
