"""Image helpers shared by the data sets: resizing uint8 tensors and turning Pillow images into square arrays."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

# Images resized in chunks of at most this many output values (64 MiB of float32), so a 60,000-image
# resize never holds one float copy of everything, whatever the size.
_CHUNK_VALUES = 1 << 24


def resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize ``uint8 [N, C, H, W]`` images to ``size`` x ``size`` (antialiased bilinear); square inputs only."""
    if images.shape[-2:] == (size, size):
        return images.contiguous()
    out = torch.empty((images.shape[0], images.shape[1], size, size), dtype=torch.uint8)
    per_image = images.shape[1] * max(size * size, images.shape[-2] * images.shape[-1])
    step = max(1, _CHUNK_VALUES // max(1, per_image))
    for start in range(0, images.shape[0], step):
        chunk = images[start : start + step].float()
        resized = F.interpolate(chunk, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        out[start : start + step] = resized.round_().clamp_(0, 255).to(torch.uint8)
    return out


def square_array(image: Image.Image, size: int, channels: int) -> np.ndarray:
    """``image`` as ``uint8 [channels, size, size]``: converted to RGB or L, shorter side to ``size``, centre crop."""
    image = image.convert("RGB" if channels == 3 else "L")
    image = ImageOps.fit(image, (size, size), method=Image.Resampling.BICUBIC, centering=(0.5, 0.5))
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = array[None]
    else:
        array = array.transpose(2, 0, 1)
    return np.ascontiguousarray(array)


def stack(arrays: list[np.ndarray], size: int, channels: int) -> torch.Tensor:
    """A list of ``[C, size, size]`` arrays as one ``uint8 [N, C, size, size]`` tensor (empty list: N = 0)."""
    if not arrays:
        return torch.zeros((0, channels, size, size), dtype=torch.uint8)
    return torch.from_numpy(np.stack(arrays))
