// The runs-table filter: the server's expression language with field-name completion, applied on
// Enter; a refused filter shows the server's message with a caret under the position it names.
import { useMemo, useRef, useState } from "preact/hooks";
import { applyCompletion, byteOffsetToIndex, complete, errorPosition, type Completion, type KnownField } from "../data/completion";

export function FilterBox(props: { value: string; fields: KnownField[]; error: string | null; onApply: (filter: string) => void }) {
  const [text, setText] = useState(props.value);
  const [cursor, setCursor] = useState(0);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const [lastValue, setLastValue] = useState(props.value);
  if (props.value !== lastValue) {
    setLastValue(props.value);
    setText(props.value);
  }
  const items: Completion[] = useMemo(() => (open ? complete(text, cursor, props.fields) : []), [open, text, cursor, props.fields]);
  const pick = (c: Completion) => {
    const next = applyCompletion(text, c);
    setText(next.text);
    setCursor(next.cursor);
    setOpen(false);
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(next.cursor, next.cursor);
    });
  };
  const pos = props.error && props.value === text ? errorPosition(props.error) : null;
  return (
    <div class="filter-box">
      <input
        ref={input}
        class="mono"
        name="filter"
        spellcheck={false}
        placeholder='filter, e.g. train/loss:last < 0.3 and sys/tags contains "resnet"   (Enter applies)'
        value={text}
        onInput={(e) => {
          const el = e.target as HTMLInputElement;
          setText(el.value);
          setCursor(el.selectionStart ?? el.value.length);
          setOpen(true);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (items.length && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
            e.preventDefault();
            setActive((a) => (a + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length);
          } else if (items.length && e.key === "Tab") {
            e.preventDefault();
            pick(items[active] ?? items[0]!);
          } else if (e.key === "Enter") {
            if (items.length && open) {
              e.preventDefault();
              pick(items[active] ?? items[0]!);
            } else {
              setOpen(false);
              props.onApply(text);
            }
          } else if (e.key === "Escape") {
            setOpen(false);
          }
        }}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
      />
      {items.length > 0 && (
        <ul class="completions" role="listbox">
          {items.map((c, i) => (
            <li key={c.label} class={i === active ? "active" : ""} onMouseDown={(e) => { e.preventDefault(); pick(c); }}>
              {c.label}
            </li>
          ))}
        </ul>
      )}
      {props.error && (
        <div class="filter-error" role="alert">
          {pos !== null && (
            <pre class="mono caret">
              {props.value}
              {"\n"}
              {" ".repeat(byteOffsetToIndex(props.value, pos))}^
            </pre>
          )}
          <span class="error">{props.error}</span>
        </div>
      )}
    </div>
  );
}
