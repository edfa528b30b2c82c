// The files of `make dev`'s media stand-in (scripts/destination.mjs serves them, scripts/send.sh
// sends events that point at them): a PNG image and an Ogg voice note, made here, the same
// bytes every time.
import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';

/** A width x height PNG: a gradient (the Worker's media tests show one in the console too). */
export function png(width, height) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([len, typed, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // RGB
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([(x * 255) / width, (y * 255) / height, 160], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

/** Not a playable recording: an Ogg page header and filler, enough to store and serve. */
function voice() {
  const body = Buffer.alloc(24_000);
  body.write('OggS', 0);
  for (let i = 4; i < body.length; i++) body[i] = (i * 7) & 0xff;
  return body;
}

const file = (body, type) => ({ body, type, sha256: createHash('sha256').update(body).digest('hex') });

export const mediaFiles = {
  'image.png': file(png(320, 200), 'image/png'),
  'voice.ogg': file(voice(), 'audio/ogg'),
};
