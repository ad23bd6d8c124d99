"""Small copies of the browser test's screenshots for the README: ``python docs/screenshots.py``.

Reads ``artifacts/screenshots/*.png`` (written by ``pytest tests/test_browser.py tests/test_browser_lesson.py``),
cuts the empty space under the content, halves the size and writes ``docs/screenshots/<name>.png``.
"""

from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
# the Lesson as on a projector: presentation mode at 1400x900 (tests/test_browser_lesson.py); the pages full length
# at 1400 px wide (tests/test_browser.py)
NAMES = ["home", "lesson_present_step3", "lesson_present_step6", "guidance_2d", "scale_explorer", "image_generation",
         "training", "fidelity_vs_diversity"]


def main() -> None:
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        img = Image.open(ROOT / "artifacts" / "screenshots" / f"{name}.png").convert("RGB")
        a = np.asarray(img)
        main_area = a[:, a.shape[1] // 4:]  # right of the sidebar
        rows = np.nonzero((main_area < 245).any(axis=(1, 2)))[0]
        bottom = min(a.shape[0], int(rows[-1]) + 40) if len(rows) else a.shape[0]
        img = img.crop((0, 0, a.shape[1], bottom))
        img = img.resize((img.width // 2, img.height // 2), Image.LANCZOS)
        img.save(out / f"{name}.png", optimize=True)
        print(f"{name}: {img.width}x{img.height}")


if __name__ == "__main__":
    main()
