import { useState } from "preact/hooks";
import { addTag, removeTag } from "../api/writes";

/**
 * Tags of a run with inline add (+) and remove (×); reports the new list after each edit.
 * The editing state names the run it is for, so that when the runs table gives this element
 * another run (a recycled row) the input and any error do not follow to it.
 */
export function Tags(props: { runId: string; tags: string[]; onChange: (tags: string[]) => void }) {
  const [addingTo, setAddingTo] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [failure, setFailure] = useState<{ runId: string; message: string } | null>(null);
  const adding = addingTo === props.runId;
  const error = failure?.runId === props.runId ? failure.message : null;
  const setError = (message: string) => setFailure({ runId: props.runId, message });
  const setAdding = (on: boolean) => {
    setAddingTo(on ? props.runId : null);
    setText("");
  };
  const add = async () => {
    const t = text.trim();
    setAdding(false);
    if (!t || props.tags.includes(t)) return;
    try {
      await addTag(props.runId, t);
      props.onChange([...props.tags, t].sort());
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <span class="tags" onClick={(e) => e.stopPropagation()}>
      {props.tags.map((t) => (
        <span class="tag" key={t}>
          {t}
          <button
            class="tag-x"
            title={`remove tag ${t}`}
            onClick={async () => {
              try {
                await removeTag(props.runId, t);
                props.onChange(props.tags.filter((x) => x !== t));
              } catch (e) {
                setError((e as Error).message);
              }
            }}
          >
            ×
          </button>
        </span>
      ))}
      {adding ? (
        <input
          class="tag-input"
          autoFocus
          value={text}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") void add();
            if (e.key === "Escape") setAdding(false);
          }}
          onBlur={() => void add()}
        />
      ) : (
        <button class="tag-add" title="add a tag" onClick={() => setAdding(true)}>
          +
        </button>
      )}
      {error && <span class="error" title={error}> !</span>}
    </span>
  );
}
