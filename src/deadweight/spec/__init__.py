"""The OCI/Docker image formats as frozen values, parsed from raw bytes."""
