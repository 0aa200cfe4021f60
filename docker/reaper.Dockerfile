# lifeline-reaper: the replicated lease service (see manifests/reaper/).
#
# Build from the repository root:
#   docker build -f docker/reaper.Dockerfile -t lifeline/reaper:0.1.0 .
#
# Expected image size: about 95 MB uncompressed, about 36 MB compressed: debian:12-slim (~75 MB)
# + libssl3 (~6 MB) + libpq5 with its Kerberos/LDAP/SASL dependencies (~4 MB) + cpp-httplib,
# brotli and prometheus-cpp (~1.5 MB) + ca-certificates and openssl (~2.5 MB) + the stripped
# binary (~4 MB). Runtime libraries are checked by tests/manifests/check_image_libs.sh.

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config libboost1.81-dev prometheus-cpp-dev libcpp-httplib-dev \
      libpq-dev libtomlplusplus-dev nlohmann-json3-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the reaper needs: the top-level CMakeLists adds sidecar/ only when it is present.
COPY CMakeLists.txt ./
COPY shared/ shared/
COPY reaper/ reaper/
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DLIFELINE_BUILD_TESTS=OFF -DLIFELINE_BUILD_BENCH=OFF \
 && cmake --build /build --target lifeline-reaper \
 && strip --strip-unneeded /build/bin/lifeline-reaper \
 && /build/bin/lifeline-reaper --version

FROM debian:12-slim
# libpq5: PostgreSQL client; libprometheus-cpp-core1.0: metrics; libtomlplusplus3: the
# configuration parser (Debian builds toml++ as a shared library); libcpp-httplib0.11 (+ libbrotli1,
# zlib1g): the Prefect API client; libssl3: TLS and libcrypto; ca-certificates: verifying
# Prefect Cloud's certificate (and a database's, with sslrootcert pointing at the system bundle).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpq5 libprometheus-cpp-core1.0 libcpp-httplib0.11 libtomlplusplus3 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/lifeline-reaper /usr/local/bin/lifeline-reaper
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/lifeline-reaper"]
CMD ["--config", "/etc/lifeline/reaper.toml"]
