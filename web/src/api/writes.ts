// The UI's own writes (tag edits) go through the batch endpoint like any client's. A batch needs a
// writer id and a rising sequence; the UI keeps one writer per browser tab (sessionStorage). A
// duplicated tab copies sessionStorage, so an edit acknowledged as a duplicate is retried once
// under a fresh writer id rather than silently lost.
import { api } from "./client";

const WRITER = "nereid.writer";

function newWriter(): { id: string; seq: number } {
  const rnd = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
  return { id: `web-${rnd}`, seq: 0 };
}

function load(): { id: string; seq: number } {
  try {
    const raw = sessionStorage.getItem(WRITER);
    if (raw) return JSON.parse(raw) as { id: string; seq: number };
  } catch {
    /* fall through */
  }
  return newWriter();
}

function save(w: { id: string; seq: number }): void {
  try {
    sessionStorage.setItem(WRITER, JSON.stringify(w));
  } catch {
    /* private mode: the writer lives as long as the page */
  }
}

let writer = load();

export async function sendOperations(runId: string, operations: unknown[]): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    writer = { ...writer, seq: writer.seq + 1 };
    save(writer);
    const ack = await api.batch(runId, { writerId: writer.id, sequence: String(writer.seq), operations });
    if (!ack.duplicate) return;
    writer = newWriter();
  }
  throw new Error("the server kept acknowledging the edit as a duplicate");
}

export function addTag(runId: string, tag: string): Promise<void> {
  return sendOperations(runId, [{ path: "sys/tags", addStrings: { values: [tag] } }]);
}

export function removeTag(runId: string, tag: string): Promise<void> {
  return sendOperations(runId, [{ path: "sys/tags", removeStrings: { values: [tag] } }]);
}
