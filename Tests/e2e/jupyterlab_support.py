"""JupyterLab in a real browser, for the end-to-end test of what a person sees (test_jupyterlab.py).

`LabServer` runs `jupyter lab` from this Python environment on a free loopback port with a random
token, over a temporary root folder, with its own settings, workspaces and config folders so
nothing from the user's Jupyter setup leaks in (the kernelspec comes from JUPYTER_PATH, which
conftest.py points at the freshly built kernel). `Lab` drives it in headless Chromium through
selenium and Debian's chromedriver, the way a person would: the Run menu, the keyboard, the
notebook's cells and outputs. `missing_tools` says what is not installed, so the test can skip
(or, in CI, fail) with a reason.
"""
from __future__ import annotations

import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import time
import re
import urllib.request

# Settings a person would leave alone but that make a test deterministic: every cell stays
# rendered (no virtual scrolling), and no news or update pop-ups cover the notebook.
USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
}
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def missing_tools() -> list[str]:
    """What the browser test needs and cannot find, with how to install it (Debian names)."""
    missing = []
    if chromium_path() is None:
        missing.append("chromium (apt-get install chromium)")
    if shutil.which("chromedriver") is None:
        missing.append("chromedriver (apt-get install chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install selenium)")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        missing.append("jupyterlab (pip install jupyterlab)")
    return missing


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """`jupyter lab` on 127.0.0.1 with a token, serving `root`; stop() ends it and its kernels."""

    def __init__(self, root: pathlib.Path, state: pathlib.Path, log: pathlib.Path, timeout: float = 90):
        self.root = root
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        settings, workspaces, config = state / "settings", state / "workspaces", state / "config"
        for path in (settings, workspaces, config / "labconfig"):
            path.mkdir(parents=True, exist_ok=True)
        for name, value in USER_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(value))
        (config / "labconfig" / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(state / "runtime"))
        self._log = open(log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={self.port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
             f"--LabApp.workspaces_dir={workspaces}", "--LabApp.news_url=",
             "--LabServerApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             "--LabApp.extension_manager=readonly", "--ServerApp.shutdown_no_activity_timeout=600", "--MappingKernelManager.cull_idle_timeout=0"],
            cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self._wait_ready(timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; see {self._log.name}")
            try:
                self.api("/api/status")
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"jupyter lab did not answer within {timeout:.0f} s; see {self._log.name}")

    def shutdown_kernels(self) -> None:
        """Ends every session's kernel, so the next notebook does not compete for the CPUs."""
        for session in self.api("/api/sessions") or []:
            self.api(f"/api/sessions/{session['id']}", method="DELETE")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.api("/api/shutdown", method="POST")
                self.proc.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, 15)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, 9)
                    self.proc.wait()
        self._log.close()


# Reads the open notebook as a person sees it: per cell, its kind, its prompt and, per output, the
# renderer JupyterLab chose and what it drew (Vega marks, drawing nodes, table rows, node links,
# nodes marked with problems, a JSON tree).
SNAPSHOT_JS = r"""
function svgText(img) {
  const src = img.getAttribute('src') || '';
  const comma = src.indexOf(',');
  if (!src.startsWith('data:image/svg+xml') || comma < 0) return '';
  const data = src.slice(comma + 1);
  try { return src.slice(0, comma).endsWith(';base64') ? atob(data) : decodeURIComponent(data); } catch (e) { return ''; }
}
function describe(o) {
  const embed = o.querySelector('.vega-embed');
  const marks = embed ? Array.from(embed.querySelectorAll('canvas.marks, svg.marks'))
      .filter(m => { const r = m.getBoundingClientRect(); return r.width > 0 && r.height > 0; }) : [];
  let nodes = 0, area = 0;
  for (const svg of o.querySelectorAll('svg.gs-graph')) {
    nodes += svg.querySelectorAll('g.gs-node, g.gs-group').length;
    const r = svg.getBoundingClientRect();
    area = Math.max(area, r.width * r.height);
  }
  let image = '';
  for (const img of o.querySelectorAll('img')) {
    const text = svgText(img);
    const parsed = text ? new DOMParser().parseFromString(text, 'image/svg+xml') : null;
    const inImage = parsed ? parsed.querySelectorAll('g.gs-node, g.gs-group').length : 0;
    const r = img.getBoundingClientRect();
    if (inImage > 0) { nodes += inImage; area = Math.max(area, r.width * r.height); }
    image = (text ? 'SVG' : 'bitmap') + ` ${Math.round(r.width)}x${Math.round(r.height)}` + (inImage ? `, ${inImage} nodes` : '');
  }
  const rows = Array.from(o.querySelectorAll('table tr')).filter(tr => tr.querySelector('td')).length;
  return {
    cls: o.className, mime: o.getAttribute('data-mime-type') || '', text: (o.innerText || '').slice(0, 300),
    jsonTree: o.classList.contains('jp-RenderedJSON') || !!o.querySelector('.jp-RenderedJSON'),
    vega: !!embed || /jp-RenderedVega/.test(o.className), vegaMarks: marks.length,
    drawingNodes: nodes, drawingArea: area, tableRows: rows, image: image,
    links: o.querySelectorAll('a[data-gs-node]').length, marked: o.querySelectorAll('svg.gs-graph .gs-problem').length,
    html: o.classList.contains('jp-RenderedHTMLCommon'),
  };
}
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
if (!panel) return null;
return Array.from(panel.querySelectorAll('.jp-Notebook .jp-Cell')).map(cell => ({
  code: cell.classList.contains('jp-CodeCell'),
  prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
  outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(describe),
}));
"""


class Lab:
    """Headless Chromium on a LabServer, doing what a person does in JupyterLab."""

    WIDTH, HEIGHT = 1400, 1000

    def __init__(self, server: LabServer, profile: pathlib.Path):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = chromium_path()
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                    "--disable-extensions", f"--user-data-dir={profile}", f"--window-size={self.WIDTH},{self.HEIGHT}"):
            options.add_argument(arg)
        options.unhandled_prompt_behavior = "accept"
        self.server = server
        self.driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        self.driver.set_page_load_timeout(60)
        self.driver.set_script_timeout(30)

    def quit(self) -> None:
        self.driver.quit()

    # MARK: waiting

    def wait(self, what: str, condition, timeout: float = 30, every: float = 0.25):
        """Polls `condition()` until it returns something truthy; fails naming `what` after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            dialog = self.driver.execute_script(
                "const d = document.querySelector('.jp-Dialog'); return d ? d.innerText : null")
            if dialog:
                raise AssertionError(f"JupyterLab showed a dialog while waiting for {what}: {dialog!r}")
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for {what}")
            time.sleep(every)

    def kernel_status(self) -> str | None:
        return self.driver.execute_script(
            "const e = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');"
            "return e ? e.getAttribute('data-status') : null")

    def kernel_name(self) -> str:
        return self.driver.execute_script(
            "const e = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-KernelName, "
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-kernelName'); return e ? e.innerText : ''")

    # MARK: notebooks

    @staticmethod
    def write_notebook(path: pathlib.Path, cells: list[str]) -> None:
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "graphsmith", "display_name": "Graphsmith", "language": "graphsmith"}
        nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        nbformat.write(nb, path)

    def open(self, name: str, timeout: float = 90) -> None:
        """Opens the notebook alone in the workspace, waits for its Graphsmith kernel to be idle,
        and hides the file browser so the notebook has the width."""
        self.driver.get(f"{self.server.url}/lab/tree/{name}?reset&token={self.server.token}")
        self.wait(f"{name} to open", lambda: self.driver.execute_script(
            "return document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').length"), timeout)
        try:
            self.wait(f"the Graphsmith kernel of {name} to start",
                      lambda: "Graphsmith" in self.kernel_name() and self.kernel_status() == "idle", timeout)
        except TimeoutError as error:
            raise AssertionError(f"{error}; the notebook shows kernel {self.kernel_name()!r}, "
                                 f"status {self.kernel_status()!r}") from None
        from selenium.webdriver.common.by import By

        for tab in self.driver.find_elements(By.CSS_SELECTOR, ".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current"):
            tab.click()
        self.wait("the file browser to close", lambda: not self.driver.find_elements(
            By.CSS_SELECTOR, ".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current"), 10)

    def menu(self, top: str, item: str) -> None:
        """Clicks `top` in the menu bar, then `item` in the menu it opens."""
        from selenium.webdriver.common.by import By

        bar = [e for e in self.driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel") if e.text == top]
        if not bar:
            raise AssertionError(f"no {top!r} menu in JupyterLab's menu bar")
        bar[0].click()
        entries = self.wait(f"the {item!r} entry of the {top} menu", lambda: [
            e for e in self.driver.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel") if e.text == item], 10)
        entries[0].click()

    def run_all(self, timeout: float) -> None:
        """Run > Run All Cells, then waits until every code cell has run and the kernel is idle,
        and until every Vega chart has drawn (vega-embed draws after the output arrives)."""
        self.menu("Run", "Run All Cells")

        def done() -> bool:
            cells = self.snapshot() or []
            prompts = [c["prompt"].strip() for c in cells if c["code"]]
            ran = all(re.fullmatch(r"\[\d+\]:", p) for p in prompts)
            return ran and self.kernel_status() == "idle"

        self.wait("all cells to run and the kernel to be idle", done, timeout, every=0.5)
        try:
            self.wait("Vega charts to draw", lambda: self.driver.execute_script(
                "return Array.from(document.querySelectorAll('.vega-embed'))"
                ".every(e => e.querySelector('canvas.marks, svg.marks'))"), 20)
        except TimeoutError:
            pass  # reported per output by the test, with the cell that made it

    def snapshot(self) -> list[dict] | None:
        return self.driver.execute_script(SNAPSHOT_JS)

    def close_all(self) -> None:
        """Saves the notebook (so leaving the page asks nothing), ends its kernel, leaves the page."""
        from selenium.webdriver.common.keys import Keys

        self.driver.find_element("css selector", "body").send_keys(Keys.ESCAPE)
        self.menu("File", "Save Notebook")
        self.wait("the notebook to be saved", lambda: not self.driver.execute_script(
            "return !!document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')"
            " && document.querySelector('.lm-TabBar-tab.lm-mod-current.jp-mod-dirty') !== null"), 15)
        self.server.shutdown_kernels()
        self.driver.get("about:blank")

    # MARK: screenshots

    def screenshot(self, path: pathlib.Path) -> None:
        self.driver.save_screenshot(str(path))

    def screenshot_notebook(self, path: pathlib.Path, limit: int = 16000) -> None:
        """The whole notebook in one picture: the window grows to the notebook's height for the shot."""
        extra = self.driver.execute_script(
            "const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');"
            "return s ? s.scrollHeight - s.clientHeight : 0")
        self.driver.set_window_size(self.WIDTH, min(self.HEIGHT + int(extra or 0) + 40, limit))
        time.sleep(0.5)
        self.driver.execute_script(
            "const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');"
            "if (s) s.scrollTop = 0;")
        time.sleep(0.3)
        try:
            self.screenshot(path)
        finally:
            self.driver.set_window_size(self.WIDTH, self.HEIGHT)

    def screenshot_output(self, cell: int, output: int | None, path: pathlib.Path) -> None:
        """One output of a cell (or, with output None, the whole cell: its input and outputs)."""
        element = self.driver.execute_script(
            "const c = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[arguments[0]];"
            "if (!c || arguments[1] === null) return c || null;"
            "const o = c.querySelectorAll('.jp-OutputArea-output')[arguments[1]];"
            "return o ? (o.closest('.jp-OutputArea-child') || o) : null",
            cell, output)
        if element is None:
            return
        height = self.driver.execute_script("return arguments[0].getBoundingClientRect().height", element)
        tall = height > self.HEIGHT - 300
        if tall:  # the window grows so the whole element is in view
            self.driver.set_window_size(self.WIDTH, min(int(height) + 400, 16000))
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", element)
        self._pointer_away()
        time.sleep(0.2)
        try:
            element.screenshot(str(path))
        finally:
            if tall:
                self.driver.set_window_size(self.WIDTH, self.HEIGHT)

    def _pointer_away(self) -> None:
        """Moves the pointer onto the logo, so no hover highlight shows in a screenshot."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By

        logo = self.driver.find_elements(By.CSS_SELECTOR, "#jp-MainLogo")
        if logo:
            ActionChains(self.driver).move_to_element(logo[0]).perform()

    # MARK: typing in a cell

    def _editor(self, cell: int):
        return self.driver.execute_script(
            "const c = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[arguments[0]];"
            "return c ? c.querySelector('.cm-content') : null", cell)

    def type_in(self, cell: int, text: str) -> None:
        """Replaces the cell's text with `text`, typed key by key, the cursor left at the end."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        editor = self._editor(cell)
        if editor is None:
            raise AssertionError(f"no cell {cell} to type in")
        editor.click()
        ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL) \
            .send_keys(Keys.DELETE).send_keys(text).perform()
        self.wait(f"cell {cell} to read {text!r}", lambda: self.cell_text(cell) == text, 10)

    def cell_text(self, cell: int) -> str:
        editor = self._editor(cell)
        return self.driver.execute_script(
            "return Array.from(arguments[0].querySelectorAll('.cm-line')).map(l => l.textContent).join('\\n')", editor)

    def complete(self, cell: int, text: str, accept: str | None = None, shot=None) -> list[str]:
        """Types `text` then Tab, waits for JupyterLab's completer list and returns its items
        (`shot`: a screenshot path, taken while the list is open). With `accept`, picks that item
        with the arrow keys and Enter (as a person would) and waits for it to be inserted;
        otherwise closes the list with Escape."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        self.type_in(cell, text)
        ActionChains(self.driver).send_keys(Keys.TAB).perform()
        items = self.wait(f"the completer list after {text!r} + Tab", lambda: self.driver.execute_script(
            "const c = document.querySelector('.jp-Completer:not(.lm-mod-hidden)');"
            "return c ? Array.from(c.querySelectorAll('.jp-Completer-item .jp-Completer-match'))"
            ".map(e => e.textContent.trim()) : null"), 15)
        if shot is not None:
            self.screenshot(shot)
        if accept is None or accept not in items:
            ActionChains(self.driver).send_keys(Keys.ESCAPE).perform()
            return items
        ActionChains(self.driver).send_keys(*([Keys.DOWN] * items.index(accept)), Keys.ENTER).perform()
        self.wait(f"{accept!r} to be inserted after {text!r}", lambda: self.cell_text(cell) != text, 10)
        return items

    def tooltip(self, cell: int, text: str) -> str:
        """Types `text` then Shift-Tab; returns the text of the inspector tooltip that opens."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        self.type_in(cell, text)
        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        shown = self.wait(f"the tooltip after {text!r} + Shift-Tab", lambda: self.driver.execute_script(
            "const t = document.querySelector('.jp-Tooltip:not(.lm-mod-hidden)'); return t ? t.innerText : null"), 15)
        return shown

    def click_node_link(self, index: int = 0) -> tuple[str, str | None, str | None, str]:
        """Clicks the `index`-th node link of the first `check` report on the page as a person does
        and returns (the node the link names, the node its viewer then says it focused, the node
        whose panel is open, the page URL after the click)."""
        from selenium.webdriver.common.by import By

        links = self.driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output .gs-report a[data-gs-node]")
        if len(links) <= index:
            raise AssertionError(f"{len(links)} node links among the outputs, wanted link {index}")
        link = links[index]
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
        node = link.get_attribute("data-gs-node")
        link.click()
        focused = self.wait(f"the viewer to focus {node}", lambda: self.driver.execute_script(
            "const v = document.querySelector('.jp-OutputArea-output .gs-report .gs-view');"
            "return v && v.getAttribute('data-focused')"), 10)
        selected = self.driver.execute_script(
            "return document.querySelector('.jp-OutputArea-output .gs-report .gs-view').getAttribute('data-selected')")
        return node, focused, selected, self.driver.current_url

    def viewer_search(self, text: str) -> str:
        """Types `text` and Enter into the search box of the first graph viewer on the page and
        returns the viewer's message once its script has answered."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        boxes = self.driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output .gs-view .gs-q")
        if not boxes:
            raise AssertionError("no graph viewer (.gs-view with a search box) among the outputs")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", boxes[0])
        boxes[0].click()
        boxes[0].send_keys(text, Keys.ENTER)
        return self.wait(f"the viewer to answer a search for {text!r}", lambda: self.driver.execute_script(
            "const m = document.querySelector('.jp-OutputArea-output .gs-view .gs-msg');"
            "return m && m.textContent.trim() ? m.textContent.trim() : null"), 10)
