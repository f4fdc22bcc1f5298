"""Reading the product catalogue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from commerce.models import Product, Variant
from tools.base import ErrorCode, ToolArgs, ToolContext, ToolError, ToolKind, ToolResult, tool


class GetProductArgs(ToolArgs):
    product_id: str = Field(min_length=1, max_length=64)


class VariantView(ToolResult):
    item_id: str
    options: dict[str, Any]
    price: Decimal
    available: bool
    in_stock: int | None = Field(description="Units on hand minus reserved, over all warehouses; null when not tracked.")


class ProductDetails(ToolResult):
    product_id: str
    name: str
    category: str
    variants: list[VariantView]


class ListProductTypesArgs(ToolArgs):
    pass


class ProductTypes(ToolResult):
    product_types: dict[str, str] = Field(description="Product name to product id.")


@tool(
    kind=ToolKind.READ,
    target="catalogue",
    gerund="reading a product",
    noun="Product reads",
    model_visible=True,
)
def get_product(context: ToolContext, args: GetProductArgs) -> ProductDetails:
    """Get a product and all its variants (item ids, options, price, availability, stock)."""
    product = context.session.scalars(
        select(Product).where(Product.id == args.product_id).options(selectinload(Product.variants).selectinload(Variant.stock))
    ).first()
    if product is None:
        raise ToolError(ErrorCode.NOT_FOUND, f"No product {args.product_id} was found.")
    variants = []
    for v in product.variants:
        stock = sum(s.on_hand - s.reserved for s in v.stock) if v.stock else None
        variants.append(VariantView(item_id=v.id, options=dict(v.options), price=v.price, available=v.available, in_stock=stock))
    return ProductDetails(product_id=product.id, name=product.name, category=product.category, variants=variants)


@tool(
    kind=ToolKind.READ,
    target="catalogue",
    gerund="listing product types",
    noun="Catalogue reads",
    model_visible=True,
)
def list_product_types(context: ToolContext, args: ListProductTypesArgs) -> ProductTypes:
    """List every product type the shop sells, with its product id."""
    rows = context.session.execute(select(Product.name, Product.id).order_by(Product.name, Product.id)).all()
    return ProductTypes(product_types={name: product_id for name, product_id in rows})
