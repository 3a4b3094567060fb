"""A person at the operations centre, in a real browser (Debian's headless Chromium via chromedriver),
against a real uvicorn serving the app on a loopback port, with every host but 127.0.0.1 unresolvable
(as on a closed network): log in with a token, see the counts, drill down to the failed district switch
and its suppressed cameras, open a commune and a device, acknowledge the alert, read /docs.

Screenshots (1366×768 and phone width) go to a stable folder whose path the test prints (``shots``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.status.world import DEAD, build_status_world
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp

HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # A closed network: nothing but loopback resolves, so a CDN reference would fail visibly.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def chromium(profile: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = require_binary("chromium", "chromium")
    for flag in HEADLESS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1366,768")
    service = webdriver.ChromeService(executable_path=require_binary("chromedriver", "chromium-driver"))
    return webdriver.Chrome(options=options, service=service)


@pytest.fixture
def shots():
    """A stable folder (pytest's own tmp folders are pruned by later runs): $IOC_SCREENSHOT_DIR, else
    ioc-status-screenshots in the system temp folder; emptied first, printed."""
    folder = Path(
        os.environ.get("IOC_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "ioc-status-screenshots"
    )
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\nstatus page screenshots: {folder}")
    return folder


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_operator_drills_down_to_the_failed_switch_and_acknowledges_its_alert(
    settings, sessions, box, tmp_path, shots
):
    world = await build_status_world(sessions, box)
    port = free_port()
    assert settings.secret_key is not None
    server = ManagedProcess(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "ioc.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        tmp_path / "uvicorn.log",
        ready=lambda: wait_for_tcp(port),
        env={
            "IOC_HOME": str(settings.home),
            "IOC_DATABASE_URL": settings.effective_database_url,
            "IOC_SECRET_KEY": settings.secret_key.get_secret_value(),
        },
    ).start()
    base = f"http://127.0.0.1:{port}"
    driver = chromium(tmp_path / "profile")
    wait = WebDriverWait(driver, 15)
    try:
        driver.get(base + "/")
        wait.until(EC.presence_of_element_located((By.ID, "token")))
        assert driver.current_url == base + "/login"
        driver.save_screenshot(str(shots / "01-login.png"))
        driver.find_element(By.ID, "token").send_keys(world.tokens["operator"])
        driver.find_element(By.ID, "login").click()

        wait.until(EC.presence_of_element_located((By.ID, "total")))
        assert driver.find_element(By.ID, "total").text == "7"
        district = driver.find_element(By.CSS_SELECTOR, 'tr[data-code="D1"]')
        assert "Mất kết nối" in district.text and "4" in district.text
        assert len(driver.find_elements(By.CSS_SELECTOR, "#map circle.dot")) == 3
        assert driver.find_elements(By.CSS_SELECTOR, '#map circle.dot.s-unreachable[data-code="A"]')
        driver.save_screenshot(str(shots / "02-province-1366.png"))

        district.find_element(By.TAG_NAME, "a").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#outage-{world.outage_id}")))
        outage = driver.find_element(By.CSS_SELECTOR, f"#outage-{world.outage_id}")
        assert "SW-VUTHU-CORE" in outage.text
        suppressed = outage.find_element(By.CSS_SELECTOR, ".suppressed").text
        assert all(name in suppressed for name in DEAD[1:]) and "Không truy cập được" in suppressed
        driver.save_screenshot(str(shots / "03-district-with-outage-1366.png"))

        driver.find_element(By.CSS_SELECTOR, 'tr[data-code="A"] a').click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.devices")))
        commune = driver.find_element(By.CSS_SELECTOR, "table.devices").text
        assert "CAM-HONGLY-01" in commune and "Không truy cập được" in commune
        assert driver.find_elements(By.CSS_SELECTOR, f"#outage-{world.outage_id}"), (
            "the switch that cut it off"
        )
        driver.save_screenshot(str(shots / "04-commune-1366.png"))

        driver.find_element(By.LINK_TEXT, "CAM-HONGLY-01").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.checks")))
        assert "refused" in driver.find_element(By.CSS_SELECTOR, "table.checks").text
        assert "Không truy cập được" in driver.find_element(By.CSS_SELECTOR, "table.history").text
        driver.save_screenshot(str(shots / "05-device-1366.png"))

        driver.get(base + "/?site=D1")
        wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".ack-button")))
        driver.find_element(By.CSS_SELECTOR, ".ack input[name=comment]").send_keys("Đội huyện đang xử lý")
        driver.find_element(By.CSS_SELECTOR, ".ack-button").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".notice.ok")))
        assert f"#{world.alert_id}" in driver.find_element(By.CSS_SELECTOR, ".notice.ok").text
        assert "Đã xác nhận" in driver.find_element(By.CSS_SELECTOR, ".alert-status").text
        assert not driver.find_elements(By.CSS_SELECTOR, ".ack-button")
        driver.save_screenshot(str(shots / "06-acknowledged-1366.png"))

        driver.set_window_size(390, 844)
        driver.get(base + "/?site=D1")
        wait.until(EC.presence_of_element_located((By.ID, "outages")))
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than a phone"
        driver.save_screenshot(str(shots / "07-district-phone.png"))
        driver.get(base + "/")
        wait.until(EC.presence_of_element_located((By.ID, "map")))
        driver.save_screenshot(str(shots / "08-province-phone.png"))
        driver.set_window_size(1366, 768)

        driver.get(base + "/docs")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
        operations = driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        listed = {op.get_attribute("data-path") or op.text for op in operations}
        assert {"/api/v1/status", "/api/v1/outages", "/api/v1/devices"} <= listed
        driver.save_screenshot(str(shots / "09-docs.png"))
        driver.get(base + "/redoc")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-section-id]")))
        driver.save_screenshot(str(shots / "10-redoc.png"))

        driver.get(base + "/?site=D1")
        driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
        wait.until(EC.presence_of_element_located((By.ID, "token")))
        driver.get(base + "/")
        assert driver.current_url == base + "/login"
    finally:
        driver.quit()
        server.stop()
