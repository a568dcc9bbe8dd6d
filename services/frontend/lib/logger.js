'use strict';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * One JSON object per line. `secrets` are redacted from every line as a last line of
 * defence (nothing should log them in the first place).
 */
function createLogger({ level = 'info', stream = process.stdout, secrets = [] } = {}) {
  const threshold = LEVELS[level] ?? LEVELS.info;
  const redact = secrets.filter((s) => typeof s === 'string' && s.length > 0);
  function write(lvl, msg, fields) {
    if ((LEVELS[lvl] ?? 0) < threshold) return;
    let line = JSON.stringify({
      time: new Date().toISOString(),
      level: lvl,
      service: 'frontend',
      msg,
      ...fields,
    });
    for (const s of redact) line = line.split(s).join('[REDACTED]');
    stream.write(line + '\n');
  }
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
}

module.exports = { createLogger };
