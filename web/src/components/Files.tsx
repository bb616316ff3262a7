// Files and images. The API needs the Authorization header, which <img src> and plain links cannot
// send, so bytes are fetched with it and shown or saved through object URLs. (With session cookies
// from the accounts work, plain URLs will do.)
import { useEffect, useState } from "preact/hooks";
import { api, getBlob } from "../api/client";
import type { FileRef } from "../api/types";
import { fmtBytes } from "../data/format";

export async function download(url: string, name: string): Promise<void> {
  const blob = await getBlob(url);
  const href = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/** A download link for a file field (or a file series' point at `step`, or a file-set member by content). */
export function FileLink(props: { runId: string; path: string; file: FileRef; step?: number; byContent?: boolean }) {
  const url = props.byContent
    ? `/api/v1/files/${props.file.sha256}?name=${encodeURIComponent(props.file.name)}`
    : api.fileUrl(props.runId, props.path, props.step);
  const [error, setError] = useState<string | null>(null);
  return (
    <span>
      <button class="link" onClick={() => download(url, props.file.name).catch((e: Error) => setError(e.message))}>
        {props.file.name}
      </button>
      <span class="muted small"> {fmtBytes(props.file.size)}</span>
      {error && <span class="error"> {error}</span>}
    </span>
  );
}

function AuthedImage(props: { url: string; alt: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    let href: string | null = null;
    getBlob(props.url, ctl.signal).then(
      (b) => {
        href = URL.createObjectURL(b);
        setSrc(href);
      },
      () => undefined,
    );
    return () => {
      ctl.abort();
      if (href) URL.revokeObjectURL(href);
    };
  }, [props.url]);
  return src ? <img src={src} alt={props.alt} /> : <div class="img-placeholder" />;
}

/** An image (file) series: a step slider over the logged steps and the image at that step. */
export function ImageSeries(props: { runId: string; path: string; version?: number }) {
  const [points, setPoints] = useState<{ step: number; file: FileRef }[]>([]);
  const [index, setIndex] = useState(0);
  useEffect(() => {
    api.series<FileRef>(props.runId, props.path, { limit: 10_000 }).then(
      (p) => {
        const pts = p.steps.map((s, i) => ({ step: s, file: p.values[i]! }));
        setPoints(pts);
        setIndex(pts.length - 1);
      },
      () => undefined,
    );
  }, [props.runId, props.path, props.version]);
  const cur = points[index];
  const isImage = cur?.file.content_type.startsWith("image/") ?? false;
  return (
    <div class="gallery" data-testid="gallery">
      <div class="chart-head">
        <span class="chart-title mono">{props.path}</span>
        {points.length > 1 && (
          <input type="range" min={0} max={points.length - 1} value={index} onInput={(e) => setIndex(Number((e.target as HTMLInputElement).value))} />
        )}
        {cur && <span class="muted small">step {cur.step} ({index + 1} of {points.length})</span>}
      </div>
      {cur && (isImage ? <AuthedImage url={api.fileUrl(props.runId, props.path, cur.step)} alt={`${props.path} at step ${cur.step}`} /> : <FileLink runId={props.runId} path={props.path} file={cur.file} step={cur.step} />)}
    </div>
  );
}
