# lifeline-sidecar: the per-flow-run sidecar (see manifests/prefect/base-job-template.json).
#
# Build from the repository root:
#   docker build -f docker/sidecar.Dockerfile -t lifeline/sidecar:0.1.0 .
#
# Two builds of the sidecar: lifeline-sidecar (plain HTTP, no OpenSSL: about 3 MiB resident)
# and lifeline-sidecar-tls (TLS to the reaper), which the plain one runs in its own place,
# same process and arguments, for an https:// reaper URL. They must sit in the same directory.
#
# Expected image size: about 85 MB uncompressed, about 32 MB compressed: debian:12-slim (~75 MB)
# + libssl3 (~6 MB: libssl and libcrypto, for TLS to the reaper) + the stripped binaries (~1.5
# and ~2.3 MB; libstdc++ is linked statically).
# Runtime libraries are checked against the binary by tests/manifests/check_image_libs.sh.

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config libboost1.81-dev prometheus-cpp-dev libcpp-httplib-dev \
      libpq-dev libtomlplusplus-dev nlohmann-json3-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the sidecar needs: the top-level CMakeLists adds reaper/ only when it is present.
COPY CMakeLists.txt ./
COPY shared/ shared/
COPY sidecar/ sidecar/
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DLIFELINE_BUILD_TESTS=OFF -DLIFELINE_BUILD_BENCH=OFF \
 && cmake --build /build --target lifeline-sidecar lifeline-sidecar-tls \
 && strip --strip-unneeded /build/bin/lifeline-sidecar /build/bin/lifeline-sidecar-tls \
 && /build/bin/lifeline-sidecar --version && /build/bin/lifeline-sidecar-tls --version

FROM debian:12-slim
# libssl3: libssl.so.3 and libcrypto.so.3 (lifeline-sidecar-tls, for https:// reaper URLs).
# Everything else the binaries need (libc6) is in debian:12-slim.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/lifeline-sidecar /usr/local/bin/lifeline-sidecar
COPY --from=build /build/bin/lifeline-sidecar-tls /usr/local/bin/lifeline-sidecar-tls
# Non-root by default. The injected pod template may run it as the flow container's UID, or as
# UID 0 with only CAP_KILL, so it can signal the workload (see manifests/README.md).
USER 65532:65532
EXPOSE 8790
ENTRYPOINT ["/usr/local/bin/lifeline-sidecar"]
CMD ["run"]
