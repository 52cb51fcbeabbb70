import { html, type SafeHtml } from "./html.js";

export const notice = (text: string): SafeHtml => html`<p class="notice" role="status">${text}</p>`;
