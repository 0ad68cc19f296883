"""`{{name}}`: runs an ONNX model the host granted by name, through `wasi:nn`.

Try it: `wcomp build`, then
`wcomp run --nn-graph model=<model.onnx> --invoke 'infer("model", "<input>", [1, 4], [0.1, 0.2, 0.3, 0.4])'`.
"""

import struct

import wit_world
from componentize_py_types import Err
from wit_world.imports import graph
from wit_world.imports.tensor import Tensor, TensorType


def describe(error: Err) -> str:
    """A `wasi:nn` error as text: its code, and the host's message."""
    value = error.value
    return f"{value.code().name}: {value.data()}"


class WitWorld(wit_world.WitWorld):
    """Implements the `{{world}}` world."""

    def infer(self, graph_name: str, input: str, dimensions: list[int], data: list[float]) -> list[float]:
        try:
            # The model was compiled once by the host; loading it by name is cheap.
            model = graph.load_by_name(graph_name)
            context = model.init_execution_context()
            tensor = Tensor(dimensions, TensorType.FP32, struct.pack(f"<{len(data)}f", *data))
            outputs = context.compute([(input, tensor)])
        except Err as error:
            raise Err(describe(error))
        if not outputs:
            raise Err("the model gave no output")
        output = outputs[0][1]
        if output.ty() != TensorType.FP32:
            raise Err(f"the first output is {output.ty().name}, not FP32")
        raw = output.data()
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))

    def classify(self, graph_name: str, input: str, dimensions: list[int], data: list[float]) -> int:
        scores = self.infer(graph_name, input, dimensions, data)
        if not scores:
            raise Err("the model gave no scores")
        return max(range(len(scores)), key=scores.__getitem__)
