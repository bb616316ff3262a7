import type { ComponentChildren } from "preact";
import { linkClick } from "../router";

export function Link(props: { href: string; children: ComponentChildren; class?: string; title?: string }) {
  return (
    <a href={props.href} class={props.class} title={props.title} onClick={(e) => linkClick(e, props.href)}>
      {props.children}
    </a>
  );
}
