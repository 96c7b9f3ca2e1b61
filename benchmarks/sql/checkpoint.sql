-- checkpoint: flush the previous case's dirty buffers before the next case is timed
checkpoint
