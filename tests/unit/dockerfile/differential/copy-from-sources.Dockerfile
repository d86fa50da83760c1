FROM alpine:3.20 AS Build
RUN echo build > /out

FROM alpine:3.20
# the alias as written, the case differs, a variable, a number, a later number
COPY --from=Build /out /a
COPY --from=build /out /b
COPY --from=$SRC /out /c
COPY --from=${SRC} /out /d
COPY --from=1 /out /e
COPY --from=2 /out /f
# an image without a tag, quoted names, a tagged image
COPY --from=docker/buildx-bin /buildx /g
COPY --from="Build" /out /h
COPY --from=docker/buildx-bin:0.14 /buildx /i
