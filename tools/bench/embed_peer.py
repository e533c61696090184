"""The peer of `rapport bench embed`: sentence-transformers embedding the same sentences
with the same model files, in the same run.

    python embed_peer.py MODEL_DIR SENTENCES.jsonl VECTORS.f32 DEVICE BATCH

Reads one JSON string per line, embeds them all (L2-normalised, as rapport does), writes
the vectors as little-endian float32 (sentences x dimensions) and prints one JSON line:
the seconds the encoding took (a warm-up first, not timed), versions, device and dtype.
On a CUDA device the model runs in float16, as sentence-transformers is usually run on
a GPU.
"""

import json
import sys
import time


def main() -> None:
    model_dir, sentences_path, out_path, device, batch = sys.argv[1:6]
    import numpy as np
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    with open(sentences_path, encoding="utf-8") as f:
        sentences = [json.loads(line) for line in f]
    model = SentenceTransformer(model_dir, device=device)
    dtype = "float32"
    if device.startswith("cuda"):
        model = model.half()
        dtype = "float16"
    batch = int(batch)
    model.encode(sentences[: min(len(sentences), batch * 2)], batch_size=batch)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    vectors = model.encode(
        sentences,
        batch_size=batch,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    np.asarray(vectors, dtype="<f4").tofile(out_path)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "version": f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}",
                "device": device,
                "dtype": dtype,
                "threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
