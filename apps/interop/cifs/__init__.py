"""Waze CIFS v2 (Closure and Incident Feed Specification): the open XML feed."""
