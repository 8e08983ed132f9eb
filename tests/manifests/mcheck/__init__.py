"""Offline checks of the deployment manifests (k8s/, dapr/)."""
