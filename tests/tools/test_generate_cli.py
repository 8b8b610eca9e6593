"""`python -m bot generate` against the fake image API: same client and pipeline, files on disk."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.e2e.helpers import decode
from tests.fakes.image_api import Fault
from tests.images import png


async def run_generate(image_api, cwd: Path, *args: str, **env_overrides: str) -> tuple[int, str, str]:
    env = {"PATH": os.environ["PATH"], "IMAGE_API_BASE_URL": image_api.base_url, "IMAGE_API_KEY": "fake-api-key"}
    env.update(env_overrides)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "generate",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_set_with_a_reference_is_written_to_the_folder(image_api, tmp_path) -> None:
    ref = tmp_path / "cat.png"
    ref.write_bytes(png(300, 200))
    out_dir = tmp_path / "out"
    code, out, err = await run_generate(
        image_api, tmp_path, "the cat in two poses", "--count", "2", "--ref", str(ref), "--out", str(out_dir)
    )
    assert code == 0, err
    files = sorted(out_dir.iterdir())
    assert len(files) == 2 and all(decode(f.read_bytes()).format == "JPEG" for f in files)
    assert out.split() == [str(f) for f in files]
    assert "[" + "#" * 24 + "] 2/2 images" in err and "completed: 2/2" in err
    request = image_api.requests[0]
    assert [(r.width, r.height) for r in request.references] == [(300, 200)]
    assert request.json["sequential_image_generation_options"] == {"max_images": 2}


async def test_size_and_aspect_reach_the_api(image_api, tmp_path) -> None:
    args = ("a wide view", "--size", "1K", "--aspect", "16:9", "--out", "o")
    code, _, err = await run_generate(image_api, tmp_path, *args)
    assert code == 0, err
    assert image_api.requests[0].json["size"] == "1280x720"


async def test_blocked_prompt_exits_1_with_the_reason(image_api, tmp_path) -> None:
    image_api.script(Fault.content_blocked())
    code, _, err = await run_generate(image_api, tmp_path, "forbidden", "--out", "o")
    assert code == 1
    assert "safety filter blocked this prompt" in err
    assert not any((tmp_path / "o").iterdir())


async def test_bad_reference_is_refused_before_any_call(image_api, tmp_path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"not an image")
    code, _, err = await run_generate(image_api, tmp_path, "x", "--ref", str(bad), "--out", "o")
    assert code == 2 and "`notes.png` is not a readable image" in err
    assert image_api.requests == []


async def test_wrong_key_is_explained_and_not_printed(image_api, tmp_path) -> None:
    code, out, err = await run_generate(image_api, tmp_path, "x", "--out", "o", IMAGE_API_KEY="sk-secret-wrong-99")
    assert code == 1 and "API key was rejected" in err
    assert "sk-secret-wrong-99" not in out + err


async def test_a_model_by_name_with_png_output(image_api, tmp_path) -> None:
    args = ("a kite", "--model", "Seedream 5.0 Lite", "--format", "png", "--out", "o")
    code, out, err = await run_generate(
        image_api, tmp_path, *args, IMAGE_MODELS='["doubao-seedream-4-0-250828", "doubao-seedream-5-0-260128"]'
    )
    assert code == 0, err
    body = image_api.requests[0].json
    assert (body["model"], body["size"], body["output_format"]) == ("doubao-seedream-5-0-260128", "2K", "png")
    [path] = out.split()
    assert path.endswith(".png") and decode((tmp_path / path).read_bytes()).format == "PNG"


async def test_a_size_the_model_cannot_make_is_refused_before_any_call(image_api, tmp_path) -> None:
    args = ("a kite", "--model", "doubao-seedream-4-5-251128", "--size", "1K", "--out", "o")
    code, _, err = await run_generate(image_api, tmp_path, *args)
    assert code == 2 and "Seedream 4.5 makes 2K or 4K images, not 1K" in err, err
    assert image_api.requests == []
