"""Bounds that more than one module checks (settings, run folders, generator folders, packing): each said once."""

MAX_LATENT_DIM = 4096  # latent size of a generator
MAX_SAMPLE_DIMS = 4  # axes of one sample (points [D], images [C, H, W])
MAX_SAMPLE_SIDE = 16384  # the size of one axis of a sample
MAX_SAMPLE_NUMEL = 1 << 26  # values in one sample
MAX_CLASSES = 1000  # classes a class-conditional generator may make
MAX_PACK = 64  # samples the discriminator judges together (PacGAN); 1 is no packing
