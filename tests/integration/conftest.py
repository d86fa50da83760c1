"""Session-wide fixtures of the integration tests: one private Docker engine, a busybox base
made without network, the images built from it, every medium they are exported to, and the
registries those live in, and one headless chromium for every browser test. Each is started
once per session and stopped by its pid."""

from browser_fixtures import browser
from engine_fixtures import busybox_base, docker_engine, docker_engine_env
from images_fixtures import built_images, exported_images, image_registries, tools
from podman_fixtures import podman_engine
from story_fixtures import story

__all__ = [
    "browser",
    "built_images",
    "busybox_base",
    "docker_engine",
    "docker_engine_env",
    "exported_images",
    "image_registries",
    "podman_engine",
    "story",
    "tools",
]
