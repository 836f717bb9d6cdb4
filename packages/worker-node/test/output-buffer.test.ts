import { describe, expect, it } from 'vitest';
import { MAX_LINE_CHARS, MAX_PENDING_LINES, OutputBuffer } from '../src/output-buffer.ts';

const square = { taskId: 'task-1', jobId: 'job-1', name: 'square' };
const cube = { taskId: 'task-2', jobId: 'job-1', name: 'cube' };

describe('the output buffer of a worker', () => {
  it('joins the pieces of a line written in several writes, and keeps an unfinished line for the next write', () => {
    const buffer = new OutputBuffer();
    buffer.write(square, 'stdout', 'one ');
    buffer.write(square, 'stdout', 'line\nsecond ');
    expect(buffer.take()).toEqual([{ taskId: 'task-1', jobId: 'job-1', name: 'square', stream: 'stdout', lines: ['one line'] }]);
    buffer.write(square, 'stdout', 'line\r\n\nthird');
    expect(buffer.take()).toEqual([{ ...square, stream: 'stdout', lines: ['second line', ''] }]);
    expect(buffer.pending).toBe(false);
  });

  it('sends the unfinished line of a task when the task ends', () => {
    const buffer = new OutputBuffer();
    buffer.write(square, 'stdout', 'no newline');
    buffer.write(square, 'stderr', 'err tail');
    buffer.end('task-1');
    expect(buffer.take()).toEqual([
      { ...square, stream: 'stdout', lines: ['no newline'] },
      { ...square, stream: 'stderr', lines: ['err tail'] },
    ]);
  });

  it('keeps the order of lines written, one chunk per run of lines of a task and stream', () => {
    const buffer = new OutputBuffer();
    buffer.write(square, 'stdout', 'a\nb\n');
    buffer.write(cube, 'stdout', 'c\n');
    buffer.write(square, 'stderr', 'd\n');
    buffer.write(square, 'stderr', 'e\n');
    expect(buffer.take().map((chunk) => [chunk.name, chunk.stream, chunk.lines])).toEqual([
      ['square', 'stdout', ['a', 'b']], ['cube', 'stdout', ['c']], ['square', 'stderr', ['d', 'e']],
    ]);
  });

  it('cuts a line longer than MAX_LINE_CHARS', () => {
    const buffer = new OutputBuffer();
    buffer.write(square, 'stdout', `${'x'.repeat(MAX_LINE_CHARS + 5)}\n`);
    expect(buffer.take()[0]!.lines.map((line) => line.length)).toEqual([MAX_LINE_CHARS, 5]);
  });

  it('drops lines past MAX_PENDING_LINES between two batches and says how many in the next chunk of the task', () => {
    const buffer = new OutputBuffer();
    for (let i = 0; i < MAX_PENDING_LINES + 250; i++) buffer.write(square, 'stdout', `line ${i}\n`);
    const first = buffer.take();
    expect(first[0]!.lines).toHaveLength(MAX_PENDING_LINES);
    expect(first[0]!.lines.at(-1)).toBe(`line ${MAX_PENDING_LINES - 1}`);
    // The count goes with the batch, as a chunk without lines.
    expect(first[1]).toEqual({ ...square, stream: 'stdout', lines: [], dropped: 250 });
    buffer.write(square, 'stdout', 'after\n');
    expect(buffer.take()).toEqual([{ ...square, stream: 'stdout', lines: ['after'] }]);
  });

  it('tells the count of lines dropped of each task, after the lines of the batch', () => {
    const buffer = new OutputBuffer();
    for (let i = 0; i < MAX_PENDING_LINES; i++) buffer.write(cube, 'stdout', 'filler\n');
    buffer.write(square, 'stdout', 'lost\nlost too\n');
    buffer.write(square, 'stderr', 'lost on stderr\n');
    buffer.end('task-1');
    const chunks = buffer.take();
    expect(chunks.slice(1)).toEqual([
      { ...square, stream: 'stdout', lines: [], dropped: 2 },
      { ...square, stream: 'stderr', lines: [], dropped: 1 },
    ]);
    expect(buffer.take()).toEqual([]);
  });
});
