"""Deployment renderers: an nginx load balancer in front of gateway replicas, and Kubernetes manifests."""
