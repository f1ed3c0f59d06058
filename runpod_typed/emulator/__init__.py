"""A local RunPod: GraphQL control plane and serverless job API."""
