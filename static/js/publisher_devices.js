// The camera and microphone of the go-live page: taking them (and taking them back once
// allowed), the pickers, what the page says when they fail, and on a phone the other
// camera and the microphone's mute. publisher.js passes in the page's parts.

const VIDEO_IDEAL = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };

export function createDevices({ root, ui, strings, state, say, warn, startRecorder, stopRecorder }) {
  async function acquire() {
    const video = ui.camera.value ? { deviceId: { exact: ui.camera.value } } : {};
    const audio = ui.microphone.value ? { deviceId: { exact: ui.microphone.value } } : true;
    const constraints = { video: { ...VIDEO_IDEAL, ...video }, audio };
    ui.retryButton.disabled = true;
    try {
      let stream;
      try {
        stream = await navigator.mediaDevices.getUserMedia(constraints);
      } catch (error) {
        if (!state.stream || error.name !== "NotReadableError") throw error;
        // Many phones open one camera at a time: let go of the current one, ask again.
        releaseDevices();
        stream = await navigator.mediaDevices.getUserMedia(constraints);
      }
      useStream(stream);
      devicesReady();
      await listDevices();
      return true;
    } catch (error) {
      devicesFailed(error);
      return false;
    } finally {
      ui.retryButton.disabled = false;
    }
  }

  // The page's stream from now on: the preview shows it, and a live broadcast records it
  // (a new recorder: see publisher_recording.js).
  function useStream(stream) {
    const kept = new Set(stream.getTracks());
    state.stream?.getTracks().forEach((track) => kept.has(track) || track.stop());
    state.stream = stream;
    stream.getAudioTracks().forEach((track) => {
      track.enabled = !state.muted;
    });
    ui.preview.srcObject = stream;
    ui.preview.play().catch(() => {});
    if (state.accepted) startRecorder();
  }

  function releaseDevices() {
    stopRecorder();
    state.stream?.getTracks().forEach((track) => track.stop());
    state.stream = null;
    ui.preview.srcObject = null;
  }

  function devicesReady() {
    root.dataset.devices = "ready";
    ui.retryRow.hidden = true;
    ui.previewStatus.hidden = true;
    ui.goBlocked.hidden = true;
    ui.goButton.disabled = false;
    if (ui.notice.dataset.about === "devices") say("");
  }

  function devicesFailed(error) {
    const byName = {
      NotAllowedError: "denied",
      SecurityError: "denied",
      NotFoundError: "missing",
      OverconstrainedError: "missing",
      NotReadableError: "busy",
    };
    blockGoing(strings[byName[error?.name] || "device_error"], "devices-error");
    ui.retryRow.hidden = false;
  }

  // Going live is impossible for now: say why, next to a visibly disabled button.
  function blockGoing(message, devices) {
    root.dataset.devices = devices;
    say(message, "error");
    ui.notice.dataset.about = "devices";
    ui.goButton.disabled = true;
    ui.goBlocked.textContent = strings.needs_camera;
    ui.goBlocked.hidden = false;
    ui.previewStatus.textContent = strings.camera_off;
    ui.previewStatus.hidden = false;
  }

  async function listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const active = {
      videoinput: state.stream?.getVideoTracks()[0]?.getSettings().deviceId,
      audioinput: state.stream?.getAudioTracks()[0]?.getSettings().deviceId,
    };
    for (const [select, kind, label] of [
      [ui.camera, "videoinput", strings.camera],
      [ui.microphone, "audioinput", strings.microphone],
    ]) {
      select.replaceChildren();
      devices
        .filter((device) => device.kind === kind)
        .forEach((device, index) => {
          const option = document.createElement("option");
          option.value = device.deviceId;
          option.textContent = device.label || `${label} ${index + 1}`;
          option.selected = device.deviceId === active[kind];
          select.append(option);
        });
    }
    ui.switchButton.hidden = ui.camera.options.length < 2;
  }

  // Watch the permission: granted in the browser's settings, the camera comes back alone.
  async function followPermission() {
    try {
      const status = await navigator.permissions.query({ name: "camera" });
      status.addEventListener("change", () => {
        if (status.state === "granted" && root.dataset.devices !== "ready") acquire();
      });
    } catch {
      // Browsers without the "camera" permission name: the Retry button does it.
    }
  }

  // --- on a phone: the other camera, the microphone ------------------------------------
  // Front <-> back where the camera says which way it faces; else the next camera.
  async function otherCamera(current) {
    const facing = current.getSettings().facingMode;
    if (facing === "user" || facing === "environment") {
      return { facingMode: { exact: facing === "user" ? "environment" : "user" } };
    }
    const cameras = (await navigator.mediaDevices.enumerateDevices()).filter(
      (device) => device.kind === "videoinput",
    );
    const index = cameras.findIndex((device) => device.deviceId === current.getSettings().deviceId);
    return { deviceId: { exact: cameras[(index + 1) % cameras.length].deviceId } };
  }

  async function openCamera(target, current) {
    const constraints = { video: { ...VIDEO_IDEAL, ...target }, audio: false };
    try {
      return (await navigator.mediaDevices.getUserMedia(constraints)).getVideoTracks()[0];
    } catch (error) {
      if (error.name !== "NotReadableError" && error.name !== "AbortError") throw error;
      stopRecorder(); // the recorder would see its camera end
      current.stop(); // phones that open one camera at a time
      return (await navigator.mediaDevices.getUserMedia(constraints)).getVideoTracks()[0];
    }
  }

  async function switchCamera() {
    const current = state.stream?.getVideoTracks()[0];
    if (!current) return;
    ui.switchButton.disabled = true;
    try {
      const track = await openCamera(await otherCamera(current), current);
      useStream(new MediaStream([track, ...state.stream.getAudioTracks()]));
      await listDevices();
      warn("");
    } catch {
      warn(strings.switch_failed);
      if (current.readyState === "ended") await acquire(); // we let go of it: take it back
    } finally {
      ui.switchButton.disabled = false;
    }
  }

  function setMuted(muted) {
    state.muted = muted;
    state.stream?.getAudioTracks().forEach((track) => {
      track.enabled = !muted;
    });
    root.dataset.muted = String(muted);
    ui.muteButton.setAttribute("aria-pressed", String(muted));
    ui.muteButton.textContent = muted ? strings.unmute : strings.mute;
    ui.mutedBadge.hidden = !muted;
  }

  return { acquire, blockGoing, followPermission, releaseDevices, setMuted, switchCamera };
}
