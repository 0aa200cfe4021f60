# lifeline-sidecar: the per-flow-run sidecar (see manifests/prefect/base-job-template.json).
#
# Build from the repository root:
#   docker build -f docker/sidecar.Dockerfile -t lifeline/sidecar:0.1.0 .
#
# Expected image size: about 83 MB uncompressed, about 31 MB compressed: debian:12-slim (~75 MB)
# + libssl3 (~6 MB: libssl and libcrypto, for TLS to the reaper) + the stripped binary (~2.4 MB;
# libstdc++ is linked statically).
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
 && cmake --build /build --target lifeline-sidecar \
 && strip --strip-unneeded /build/bin/lifeline-sidecar \
 && /build/bin/lifeline-sidecar --version

FROM debian:12-slim
# libssl3: libssl.so.3 and libcrypto.so.3 (https:// reaper URLs). Everything else the binary needs
# (libc6) is in debian:12-slim.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/lifeline-sidecar /usr/local/bin/lifeline-sidecar
# Non-root by default. The injected pod template may run it as the flow container's UID, or as
# UID 0 with only CAP_KILL, so it can signal the workload (see manifests/README.md).
USER 65532:65532
EXPOSE 8790
ENTRYPOINT ["/usr/local/bin/lifeline-sidecar"]
CMD ["run"]
