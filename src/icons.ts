import { LabIcon } from '@jupyterlab/ui-components';

// Inline SVG so the icons work without a loader in tests and builds alike.
const batchSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <rect x="3" y="4" width="18" height="4" rx="1"/>
    <rect x="3" y="10" width="18" height="4" rx="1"/>
    <rect x="3" y="16" width="12" height="4" rx="1"/>
    <path d="M17 15.5v5l4-2.5z"/>
  </g>
</svg>`;

const batchNotebookSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M5 2h10l4 4v7h-2V7h-3V4H7v16h6v2H5z"/>
    <rect x="9" y="9" width="6" height="2"/>
    <rect x="9" y="13" width="4" height="2"/>
    <path d="M15 15v7l6-3.5z"/>
  </g>
</svg>`;

export const batchIcon = new LabIcon({
  name: 'user-batch:batch',
  svgstr: batchSvg
});

export const batchNotebookIcon = new LabIcon({
  name: 'user-batch:batch-notebook',
  svgstr: batchNotebookSvg
});
