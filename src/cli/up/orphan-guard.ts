/**
 * Preloaded (`--import`) into every child of `meshward up`: when the parent
 * goes away without stopping us (SIGKILL, crash), the child is re-parented;
 * we notice within half a second and stop ourselves (SIGTERM, so the proxy
 * still flushes its audit file), then exit hard if that takes too long.
 * Nothing here touches the child's own code: it is a timer, unref'd.
 */
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  setTimeout(() => process.exit(1), 3000).unref();
  process.kill(process.pid, 'SIGTERM');
}, 500);
timer.unref();

export {};
