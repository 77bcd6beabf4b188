"""Write ``torch.inv``: a Sphinx inventory of the few torch names fpsolve's docs refer to.

PyTorch's own ``objects.inv`` is not packaged anywhere the build can reach offline, so this
small one is written by hand from the addresses of PyTorch's documentation (relative to
https://docs.pytorch.org/docs/stable/). Run it after adding a name::

    python docs/_intersphinx/make_torch_inventory.py
"""
import zlib
from pathlib import Path

#: (name, role, page#anchor); "$" in the address stands for the name
NAMES = [
    ("torch", "py:module", "torch.html#module-torch"),
    ("torch.Tensor", "py:class", "tensors.html#$"),
    ("torch.device", "py:class", "tensor_attributes.html#$"),
    ("torch.dtype", "py:class", "tensor_attributes.html#$"),
    ("torch.Generator", "py:class", "generated/$.html#$"),
    ("torch.nn.Module", "py:class", "generated/$.html#$"),
    ("torch.nn.Sequential", "py:class", "generated/$.html#$"),
    ("torch.nn.Linear", "py:class", "generated/$.html#$"),
    ("torch.optim.SGD", "py:class", "generated/$.html#$"),
    ("torch.utils.data.DataLoader", "py:class", "data.html#$"),
    ("torch.func.functional_call", "py:function", "generated/$.html#$"),
    ("torch.func.vmap", "py:function", "generated/$.html#$"),
    ("torch.autograd.grad", "py:function", "generated/$.html#$"),
]


def main(path=Path(__file__).with_name("torch.inv")):
    header = ("# Sphinx inventory version 2\n# Project: PyTorch\n# Version: stable\n"
              "# The remainder of this file is compressed using zlib.\n")
    body = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in NAMES)
    path.write_bytes(header.encode() + zlib.compress(body.encode()))
    return path


if __name__ == "__main__":
    print(main())
