# The official Elasticsearch image plus Quarry's English analysis plugin, compiled in a stage
# against that very image's jars (a stable-API plugin must match the server's version).
ARG ES_VERSION=8.19.21

FROM docker.elastic.co/elasticsearch/elasticsearch:${ES_VERSION} AS es

FROM eclipse-temurin:17-jdk-jammy AS plugin
COPY --from=es /usr/share/elasticsearch/lib /es/lib
COPY deploy/elasticsearch/analysis-plugin /plugin
RUN bash /plugin/build.sh /es

FROM docker.elastic.co/elasticsearch/elasticsearch:${ES_VERSION}
COPY --from=plugin --chown=1000:0 /es/plugins/quarry-analysis /usr/share/elasticsearch/plugins/quarry-analysis
