/** Styles shared by the components (colours come from custom properties set in index.html). */
import { css } from "lit";

export const base = css`
  :host {
    display: block;
    color: var(--fg);
    font: inherit;
  }
  * {
    box-sizing: border-box;
  }
  h2 {
    font-size: 0.95rem;
    margin: 0 0 0.5rem;
  }
  label {
    display: flex;
    flex-direction: column;
    gap: 0.15rem;
    font-size: 0.8rem;
    color: var(--muted);
  }
  label.inline {
    flex-direction: row;
    align-items: center;
    gap: 0.35rem;
    color: var(--fg);
  }
  input,
  select,
  textarea,
  button {
    font: inherit;
    font-size: 0.875rem;
    color: var(--fg);
  }
  input:not([type="checkbox"]):not([type="color"]),
  select,
  textarea {
    width: 100%;
    min-width: 0;
    padding: 0.35rem 0.45rem;
    border: 1px solid var(--border);
    border-radius: 6px;
    background: var(--field);
  }
  textarea {
    resize: vertical;
    font-family: var(--mono);
  }
  input[type="color"] {
    width: 2rem;
    height: 1.8rem;
    padding: 0;
    border: 1px solid var(--border);
    border-radius: 4px;
    background: none;
  }
  button {
    padding: 0.35rem 0.75rem;
    border: 1px solid var(--border);
    border-radius: 6px;
    background: var(--button);
    cursor: pointer;
    white-space: nowrap;
  }
  button:hover:not(:disabled) {
    background: var(--button-hover);
  }
  button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: #fff;
  }
  button.small {
    padding: 0.1rem 0.45rem;
    font-size: 0.8rem;
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  :focus-visible {
    outline: 2px solid var(--focus);
    outline-offset: 1px;
  }
  .panel {
    background: var(--panel);
    border: 1px solid var(--border);
    border-radius: 8px;
    padding: 0.75rem;
  }
  .grid2 {
    display: grid;
    grid-template-columns: repeat(2, minmax(0, 1fr));
    gap: 0.5rem;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: end;
  }
  .grow {
    flex: 1 1 8rem;
    min-width: 0;
  }
  .stack {
    display: flex;
    flex-direction: column;
    gap: 0.5rem;
  }
  .muted {
    color: var(--muted);
    font-size: 0.8rem;
  }
  .error {
    color: var(--error);
    font-size: 0.85rem;
  }
  .ok {
    color: var(--ok);
    font-size: 0.85rem;
  }
  .mono {
    font-family: var(--mono);
  }
  details > summary {
    cursor: pointer;
    font-size: 0.85rem;
    margin: 0.25rem 0;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  .badge {
    display: inline-block;
    padding: 0 0.3rem;
    border-radius: 4px;
    font-size: 0.72rem;
    line-height: 1.2rem;
    background: var(--badge);
    color: var(--fg);
  }
`;
