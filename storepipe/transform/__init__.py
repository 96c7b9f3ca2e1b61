"""Transforms: the model graph from sql/transforms, materializing a model's slice, checks, publishing marts."""
