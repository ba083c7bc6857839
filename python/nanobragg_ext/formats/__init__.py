"""File kinds other programs read: NeXus/NXmx (DIALS, dxtbx), CrystFEL HDF5 + .geom, miniCBF,
and the SMV header dxtbx reads right. One layout module per kind, shared by the command line
and the dataset mode."""
