"""An example third-party cottoncandy plugin: a byte-shuffle transform."""
