// The package's public API for host applications: `import { signTransformUrl, shareLink } from 'sluice'`.
export { shareLink, type ShareLink, type ShareLinkOptions } from './share-link.js';
export { signTransformPath, signTransformUrl, type TransformSigning, type TransformUrlOptions } from './transform-url.js';
