// Types of what Vite resolves besides TypeScript (imported CSS files).
/// <reference types="vite/client" />
