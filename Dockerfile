# PostgreSQL 15 with the recommender extension and the sample shop loaded.
# The Swift toolchain lives only in the build stage: the extension is linked with the static
# Swift runtime, so the database image needs only OpenBLAS and CHOLMOD.
FROM swift:6.1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-server-dev-15 libopenblas-dev libsuitesparse-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release -Xswiftc -static-stdlib -Xcc -I/usr/include/postgresql/15/server \
 && strip --strip-unneeded .build/release/librecommender.so

FROM postgres:15-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopenblas0-pthread libgfortran5 libcholmod3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/.build/release/librecommender.so /usr/lib/postgresql/15/lib/recommender.so
COPY extension/recommender.control extension/recommender--0.1.0.sql /usr/share/postgresql/15/extension/
COPY docker/10-recommender.sql /docker-entrypoint-initdb.d/
